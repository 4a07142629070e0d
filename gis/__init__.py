"""Geospatial helpers: layers, coordinates, demand, travel costs and candidate sites.

Plain functions, GeoDataFrames in and (Geo)DataFrames out. This package never imports
``allocator``.
"""
