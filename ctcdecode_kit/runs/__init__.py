"""The engines that turn a dataset into results: ``compare``, ``tune``, ``transcribe``.

Modules (each imported on its own; this package imports nothing at load time):

* :mod:`~ctcdecode_kit.runs.specs`: the one decoder-spec parser ``NAME[+lm][:key=value,...]``
  and the one option builder, shared by every command;
* :mod:`~ctcdecode_kit.runs.fingerprint`: what produced a run's output folder (``run.json``)
  and the rules for reusing, resuming or overwriting that folder;
* :mod:`~ctcdecode_kit.runs.logits_cache`: the acoustic model's log-probs kept in ``--output``;
* :mod:`~ctcdecode_kit.runs.journal`: fsynced journals and atomic summary files;
* :mod:`~ctcdecode_kit.runs.outputs`: scores, ``results.json`` / ``.csv`` and the plot;
* :mod:`~ctcdecode_kit.runs.compare`, :mod:`~ctcdecode_kit.runs.tune`,
  :mod:`~ctcdecode_kit.runs.transcribe`: the engines.

Only :mod:`ctcdecode_kit.cli` and ``ctcdecode_kit``'s lazy exports import this package;
the core, ``decoders/`` and ``lm/`` never do.

Example:
    >>> from ctcdecode_kit.runs.specs import parse_decoder_spec
    >>> parse_decoder_spec("native+lm").use_lm
    True
"""
