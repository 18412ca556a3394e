# dbdrill CLI image: the packed CLI, pg_dump/pg_restore/psql of every supported PostgreSQL major
# (14-18, from the PostgreSQL project's apt repository) and age. Runs as a non-root user and needs no
# writable root filesystem: mount a writable /tmp (dbdrill's temp files) and, for directory stores, a
# volume. Built and run against a postgres service by .github/workflows/image.yml.
#
#   docker build -t dbdrill .
#   docker run --rm --read-only --tmpfs /tmp dbdrill --version
ARG NODE_IMAGE=node:24-bookworm-slim

# The same tarball `npm pack` makes for a release: the committed, self-contained CLI bundle.
FROM ${NODE_IMAGE} AS pack
WORKDIR /src
COPY package.json README.md LICENSE CHANGELOG.md ./
COPY dist/cli/ dist/cli/
RUN npm pack --silent && mv dbdrill-*.tgz /dbdrill.tgz

FROM ${NODE_IMAGE}
ARG PG_MAJORS="14 15 16 17 18"
# postgresql-common brings the script that adds the PostgreSQL apt repository (with its signing key);
# create_main_cluster=false so that no package ever creates a cluster in the image.
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates postgresql-common age; \
    mkdir -p /etc/postgresql-common/createcluster.d; \
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/dbdrill.conf; \
    /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y; \
    clients=""; for m in $PG_MAJORS; do clients="$clients postgresql-client-$m"; done; \
    apt-get install -y --no-install-recommends $clients; \
    rm -rf /var/lib/apt/lists/*; \
    for m in $PG_MAJORS; do /usr/lib/postgresql/$m/bin/pg_dump --version; done; \
    age --version

COPY --from=pack /dbdrill.tgz /tmp/dbdrill.tgz
RUN npm install -g --no-audit --no-fund /tmp/dbdrill.tgz \
    && rm /tmp/dbdrill.tgz \
    && npm cache clean --force \
    && dbdrill --version

# A fixed numeric uid/gid, so Kubernetes can check runAsNonRoot without resolving names.
RUN groupadd --system --gid 10001 dbdrill \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/dbdrill --create-home \
       --shell /usr/sbin/nologin dbdrill
USER 10001:10001
WORKDIR /home/dbdrill
ENV NODE_ENV=production

LABEL org.opencontainers.image.title="dbdrill" \
      org.opencontainers.image.description="Back up PostgreSQL/MongoDB with the app's secret store, verify it, run timed restore drills" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/dbdrill/dbdrill"

ENTRYPOINT ["dbdrill"]
CMD ["--help"]
