"""The Yandex.Cloud compute driver (spec 000's class path ends in ``yandex.driver``)."""
