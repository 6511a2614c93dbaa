"""Presentation: charts in one house style and HTML report cards. Computes no business numbers."""
