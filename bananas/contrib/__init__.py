"""Integrations with web frameworks: :mod:`bananas.contrib.django`, :mod:`bananas.contrib.flask`."""
