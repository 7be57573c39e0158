"""The Scrapy project: spiders per source family, items, pipelines (see DESIGN.md)."""
