-- An example pull-request migration: what a PR restore check proves applies to production-shaped data.
ALTER TABLE public.customers ADD COLUMN loyalty_points integer NOT NULL DEFAULT 0;
CREATE INDEX customers_loyalty_points_idx ON public.customers (loyalty_points) WHERE loyalty_points > 0;
