"""Query patterns (time series, aggregations, anomalies) and the eight analyzers. Returns data, never prints or draws."""
