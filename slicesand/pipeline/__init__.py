"""Pipeline: the stages chained over files, for one task or every task of a dump."""
