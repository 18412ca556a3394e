export * from './model.js';
export { drillReportSchema, DRILL_REPORT_SCHEMA_ID } from './schema.js';
export { validateDrillReport } from './validate.js';
export { renderMarkdown, renderGantt, type MarkdownOptions } from './markdown.js';
export { renderJUnit } from './junit.js';
export { writeDrillReport, REPORT_FILES, type WrittenReport } from './write.js';
export { slowerThanMedian, median } from './history.js';
export { redactDeep } from './format.js';
export { formatDuration } from '../duration.js';
