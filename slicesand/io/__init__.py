"""Reading and writing files: tables (CSV, Parquet, stdin/stdout) and atomic writes."""
