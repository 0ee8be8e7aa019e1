"""Clouds: OpenStack projects backed by AWS or Yandex.Cloud."""
