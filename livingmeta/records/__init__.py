"""Search records: ingestion of search exports (``ingest``), the record model (``model``), deduplication
(``dedup``), screening and PRISMA counts. See docs/records.md."""
