"""Decoder backends, one module each: ``greedy``, ``pyctcdecode``, ``native``, ``rescore``.

Pick one by name with :func:`ctcdecode_kit.build_decoder`; the modules import lazily so a
missing optional part never breaks the others.
"""
