"""The public directory: search pages, group pages, the HSDS 3.0 API and iCalendar feeds."""
