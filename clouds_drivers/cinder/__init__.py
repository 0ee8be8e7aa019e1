"""Cinder drivers: the ``ebs`` (AWS) and ``yandex`` volume backends and CloudBackendsFilter.

Pure decisions in decide.py, the Clouds API and the clouds in cloud.py, Cinder's classes in
volume/ and scheduler/ (spec 000's class paths).
"""
