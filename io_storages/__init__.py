"""Storages of every kind Label Studio has (S3, GCS, Azure Blob, Redis, local files), as
sources (their sync feeds the importers' writer) and targets (one object per
annotation), through one model family (``models``) and one service (``services``);
presign and resolve of their objects (``api``).
"""
