"""Catalogue: supplier service items with review, pricing rules, Excel import kinds, demo."""
