"""People: customers, vehicles, butlers, suppliers, reviews, car models, uploads, demo."""
