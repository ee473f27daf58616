"""Decoder specs ``NAME[+lm][:key=value,...]`` and the one option builder behind every command.

``compare``, ``tune``, ``decode`` and ``transcribe`` all turn what the user typed into a
decoder here, so a spec means the same thing everywhere:

* ``NAME`` is a registered decoder (:func:`~ctcdecode_kit.list_decoders`);
* ``+lm`` fuses the run's language model (``rescore`` always uses it);
* ``:key=value,...`` are options of that backend (ints, floats, ``true``/``false``,
  ``none`` or text), e.g. ``native+lm:beam_width=50,token_top_k=8``.

The settings a run shares between its decoders (:class:`SharedSettings`: ``lm``,
``alpha``, ``beta``, ``beam_width``, ``frame_rate``) are None when the user did not give
them; :func:`decoder_options` applies the defaults (alpha 0.5, beta 1.0, beam width 100)
and gives each backend only what it takes: ``beam_width`` to beam searches and to
``rescore``'s first pass, ``lm``/``alpha``/``beta`` to ``+lm`` specs (as
``lms``/``alphas``/``beta`` for ``rescore``). A setting that the decoder would not use is
an error, never silently dropped: with one decoder (``decode``, ``transcribe``) when that
decoder does not use it, in a comparison when no decoder of the table uses it. In
``decode`` and ``transcribe`` an LM given to a beam decoder means ``NAME+lm``.

Example:
    >>> spec = parse_decoder_spec("pyctcdecode+lm:beam_width=50")
    >>> spec
    DecoderSpec(label='pyctcdecode+lm:beam_width=50', backend='pyctcdecode', use_lm=True, options={'beam_width': 50})
    >>> decoder_options(spec, SharedSettings(lm="lm.arpa"))
    {'beam_width': 50, 'lm': 'lm.arpa', 'alpha': 0.5, 'beta': 1.0}
    >>> decoder_options(parse_decoder_spec("greedy"), SharedSettings(lm="lm.arpa"))
    Traceback (most recent call last):
    ...
    ctcdecode_kit.errors.InputError: decoder 'greedy' takes no language model, so lm (--lm) would be ignored; ...
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..decoder import Decoder, build_decoder, decoder_option_names, list_decoders
from ..errors import InputError, UnknownDecoderError
from ..vocabulary import Vocabulary

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_BEAM_WIDTH",
    "DEFAULT_BETA",
    "DecoderSpec",
    "SharedSettings",
    "available_decoder_specs",
    "missing_backends",
    "build_from_spec",
    "check_settings_used",
    "decoder_options",
    "parse_decoder_spec",
    "single_decoder_spec",
    "split_shared_options",
]

DEFAULT_ALPHA = 0.5
DEFAULT_BETA = 1.0
DEFAULT_BEAM_WIDTH = 100
RESCORE_MAX_CANDIDATES = 64
"""``rescore`` re-ranks up to this many first-pass candidates (fewer when the beam is narrower)."""

_FLAGS = {"lm": "--lm", "alpha": "--alpha", "beta": "--beta", "beam_width": "--beam-width"}


@dataclass(frozen=True)
class DecoderSpec:
    """One parsed spec: a registry name, whether it uses the run's LM, and backend options."""

    label: str
    backend: str
    use_lm: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SharedSettings:
    """Settings shared by a run's decoders; None means "not given" (the default applies).

    ``repo`` is the decoder a Hugging Face "-with-lm" model ships
    (:class:`ctcdecode_kit.pretrained.DecoderConfig`, ``AcousticModel.decoder_config``):
    when no ``lm`` is given its LM and ``alpha``/``beta`` are the defaults (and ``native``
    also gets its unigrams with ``lm_rules="pyctcdecode"``, as the repo's processor decoded).

    Example:
        >>> SharedSettings(alpha=0.9).given()
        ['alpha']
    """

    lm: str | Path | Any | None = None
    alpha: float | None = None
    beta: float | None = None
    beam_width: int | None = None
    frame_rate: float | None = None
    repo: Any = None

    def repo_lm(self) -> Any:
        """The repo's decoder config when it supplies the LM (no ``lm`` given, the repo has one), else None."""
        return self.repo if self.lm is None and getattr(self.repo, "has_lm", False) else None

    def given(self) -> list[str]:
        """Names of the LM and search settings that were given (frame_rate is always usable)."""
        return [name for name in _FLAGS if getattr(self, name) is not None]

    def resolved(self) -> dict[str, Any]:
        """alpha, beta and beam_width with the defaults applied (what a run records).

        Example:
            >>> SharedSettings(beta=2.0).resolved()
            {'alpha': 0.5, 'beta': 2.0, 'beam_width': 100}
        """
        repo = self.repo_lm()
        return {
            "alpha": (DEFAULT_ALPHA if repo is None else repo.alpha) if self.alpha is None else self.alpha,
            "beta": (DEFAULT_BETA if repo is None else repo.beta) if self.beta is None else self.beta,
            "beam_width": DEFAULT_BEAM_WIDTH if self.beam_width is None else self.beam_width,
        }


def _parse_value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    return text


def parse_decoder_spec(spec: str) -> DecoderSpec:
    """Parse ``NAME[+lm][:key=value,...]`` into a :class:`DecoderSpec`.

    Raises UnknownDecoderError (listing the valid names) for an unknown NAME, InputError
    for a malformed spec.

    Example:
        >>> parse_decoder_spec("rescore:candidates=16")
        DecoderSpec(label='rescore:candidates=16', backend='rescore', use_lm=True, options={'candidates': 16})
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"decoder spec must be a non-empty string, got {spec!r}")
    spec = spec.strip()
    head, _, tail = spec.partition(":")
    name, plus, suffix = head.partition("+")
    if plus and suffix != "lm":
        raise InputError(f"decoder spec {spec!r}: only '+lm' may follow the decoder name (NAME[+lm][:key=value,...])")
    if name not in list_decoders():
        raise UnknownDecoderError(
            f"unknown decoder {name!r} in spec {spec!r}; valid names: {', '.join(list_decoders())} "
            f"(add '+lm' to use the language model, ':key=value' for options)"
        )
    options: dict[str, Any] = {}
    if tail:
        for item in tail.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise InputError(f"decoder spec {spec!r}: options must look like key=value, got {item!r}")
            if key.strip() in options:
                raise InputError(f"decoder spec {spec!r} gives option {key.strip()!r} twice")
            options[key.strip()] = _parse_value(value.strip())
    return DecoderSpec(spec, name, bool(plus) or name == "rescore", options)


def _accepted_options(backend: str) -> frozenset[str] | None:
    """Keyword options the backend's factory takes (None: it takes any)."""
    return decoder_option_names(backend)


def _takes(accepted: frozenset[str] | None, name: str) -> bool:
    return accepted is None or name in accepted


def _takes_lm(accepted: frozenset[str] | None) -> bool:
    return _takes(accepted, "lm") or _takes(accepted, "lms")


def _unused(name: str, why: str) -> InputError:
    return InputError(f"{why}, so {name} ({_FLAGS[name]}) would be ignored; {_HINTS[name]}")


_HINTS = {
    "lm": "choose a decoder that takes one (pyctcdecode, native, rescore) or drop it",
    "alpha": "give a language model (--lm) or drop it",
    "beta": "give a language model (--lm) or drop it",
    "beam_width": "choose a beam decoder (pyctcdecode, native, rescore) or drop it",
}


def _search_options(spec: DecoderSpec, accepted: frozenset[str] | None, beam: int) -> dict[str, Any] | None:
    """The beam width, where this backend has one (None: it has no beam)."""
    if _takes(accepted, "beam_width"):
        return {"beam_width": beam}
    if accepted is not None and {"first_pass", "first_pass_options", "candidates"} <= accepted:
        # n-best rescoring: the width is its first pass's; it re-ranks up to 64 of its candidates
        return {
            "first_pass": "native",
            "first_pass_options": {"beam_width": beam},
            "candidates": min(RESCORE_MAX_CANDIDATES, beam),
        }
    return None


def _lm_options(spec: DecoderSpec, accepted: frozenset[str] | None, shared: SharedSettings) -> dict[str, Any]:
    """The LM and its weights in the form this backend takes."""
    weights = shared.resolved()
    if "lm" in spec.options or "lms" in spec.options:  # the spec names its own LM
        return {}
    repo = shared.repo_lm()
    if repo is not None and _takes(accepted, "lm"):  # the model repo's own decoder settings
        return {**repo.decoder_options(spec.backend), "alpha": weights["alpha"], "beta": weights["beta"]}
    if repo is not None and accepted is not None and "lms" in accepted:
        return {"lms": [repo.decoder_options("native")["lm"]], "alphas": [weights["alpha"]], "beta": weights["beta"]}
    if shared.lm is None:
        raise InputError(
            f"decoder {spec.label!r} needs a language model; pass --lm PATH (an ARPA or KenLM binary file) "
            f"or lm= in Python"
        )
    if _takes(accepted, "lm"):
        return {"lm": shared.lm, "alpha": weights["alpha"], "beta": weights["beta"]}
    if accepted is not None and "lms" in accepted:
        return {"lms": [shared.lm], "alphas": [weights["alpha"]], "beta": weights["beta"]}
    raise _unused("lm", f"decoder {spec.label!r} takes no language model")


def decoder_options(spec: DecoderSpec, shared: SharedSettings, *, strict: bool = True) -> dict[str, Any]:
    """The keyword options that build ``spec``'s decoder with the run's shared settings.

    Options written in the spec win over shared settings. With ``strict`` (one decoder:
    ``decode``, ``transcribe``) a given setting this decoder does not use is an error;
    without it (a table of decoders) each decoder takes what it uses and
    :func:`check_settings_used` checks the table as a whole.

    Example:
        >>> decoder_options(parse_decoder_spec("rescore"), SharedSettings(lm="lm.arpa", beam_width=20))
        {'first_pass': 'native', 'first_pass_options': {'beam_width': 20}, 'candidates': 20, 'lms': ['lm.arpa'], 'alphas': [0.5], 'beta': 1.0}
    """
    accepted = _accepted_options(spec.backend)
    options: dict[str, Any] = {}
    lm_options: dict[str, Any] = {}
    if spec.use_lm:
        lm_options = _lm_options(spec, accepted, shared)
    elif strict:
        if shared.lm is not None:
            raise _unused("lm", f"decoder {spec.label!r} takes no language model")
        for name in ("alpha", "beta"):
            if getattr(shared, name) is not None:
                raise _unused(name, f"decoder {spec.label!r} runs without a language model")
    search = _search_options(spec, accepted, shared.resolved()["beam_width"])
    if search is not None:
        options.update(search)
    elif strict and shared.beam_width is not None:
        raise _unused("beam_width", f"decoder {spec.label!r} has no beam")
    options.update(lm_options)
    if shared.frame_rate is not None and _takes(accepted, "frame_rate"):
        options["frame_rate"] = shared.frame_rate
    options.update(spec.options)
    return options


def check_settings_used(specs: Sequence[DecoderSpec], shared: SharedSettings) -> None:
    """Refuse a shared setting that was given but that no decoder of ``specs`` uses.

    Example:
        >>> check_settings_used([parse_decoder_spec("greedy")], SharedSettings(beam_width=8))
        Traceback (most recent call last):
        ...
        ctcdecode_kit.errors.InputError: none of the decoders (greedy) has a beam, so beam_width (--beam-width) would be ignored; ...
    """
    labels = ", ".join(s.label for s in specs)
    given = shared.given()
    if "beam_width" in given and not any(
        _search_options(s, _accepted_options(s.backend), 1) is not None for s in specs
    ):
        raise _unused("beam_width", f"none of the decoders ({labels}) has a beam")
    if not any(s.use_lm for s in specs):
        for name in ("lm", "alpha", "beta"):
            if name in given:
                raise _unused(name, f"none of the decoders ({labels}) uses a language model (add '+lm' to a spec)")


def single_decoder_spec(spec: str, shared: SharedSettings) -> DecoderSpec:
    """The spec of a one-decoder command: an LM given to a decoder that takes one means ``+lm``.

    Example:
        >>> single_decoder_spec("native", SharedSettings(lm="lm.arpa")).use_lm
        True
    """
    parsed = parse_decoder_spec(spec)
    has_lm = shared.lm is not None or shared.repo_lm() is not None
    if has_lm and not parsed.use_lm and _takes_lm(_accepted_options(parsed.backend)):
        parsed = replace(parsed, use_lm=True)
    return parsed


def split_shared_options(options: dict[str, Any]) -> tuple[SharedSettings, dict[str, Any]]:
    """Split Python keyword options into the shared settings and backend options.

    Example:
        >>> split_shared_options({"beam_width": 8, "hotwords": ["kit"]})
        (SharedSettings(lm=None, alpha=None, beta=None, beam_width=8, frame_rate=None, repo=None), {'hotwords': ['kit']})
    """
    rest = dict(options)
    shared = SharedSettings(**{name: rest.pop(name) for name in (*_FLAGS, "frame_rate") if name in rest})
    return shared, rest


def build_from_spec(
    spec: DecoderSpec | str,
    vocabulary: Vocabulary,
    shared: SharedSettings,
    *,
    strict: bool = True,
    extra: dict[str, Any] | None = None,
) -> Decoder:
    """Build the decoder of ``spec`` (a string is parsed as one decoder's spec).

    ``extra`` are backend options given outside the spec (Python keywords); one given
    both there and in the spec is an error.

    Example:
        >>> decoder = build_from_spec("greedy", Vocabulary.from_labels(["<pad>", "|", "A"]), SharedSettings())
        >>> type(decoder).__name__
        'GreedyDecoder'
    """
    if isinstance(spec, str):
        spec = single_decoder_spec(spec, shared)
    if extra:
        twice = sorted(set(extra) & set(spec.options))
        if twice:
            raise InputError(f"decoder option(s) {', '.join(twice)} given both in spec {spec.label!r} and as keywords")
        spec = replace(spec, options={**spec.options, **extra})
    return build_decoder(spec.backend, vocabulary, **decoder_options(spec, shared, strict=strict))


def missing_backends() -> dict[str, str]:
    """Built-in backends whose optional extra is not installed: name -> the install command.

    Example:
        >>> import importlib.util
        >>> ("pyctcdecode" in missing_backends()) == (importlib.util.find_spec("pyctcdecode") is None)
        True
    """
    import importlib.util

    from ctcdecode_kit.errors import install_command

    return {
        name: install_command(extra)
        for name, (module, extra) in _EXTRA_BACKENDS.items()
        if importlib.util.find_spec(module) is None
    }


_EXTRA_BACKENDS = {"pyctcdecode": ("pyctcdecode", "pyctcdecode")}
"""Built-in backends that need an optional extra: name -> (module it imports, extra)."""


def available_decoder_specs(with_lm: bool) -> list[str]:
    """The default decoder specs: every built-in backend that is installed, with and without the LM.

    ``native`` is part of the core build and always listed: when its compiled module is
    missing, building it fails with the reinstall command instead of the decoder
    silently leaving the table. ``pyctcdecode`` is listed when its extra is installed
    (:func:`missing_backends` names what is left out and how to install it).

    Example:
        >>> specs = available_decoder_specs(with_lm=True)
        >>> [s for s in specs if not s.startswith("pyctcdecode")]
        ['greedy', 'native', 'native+lm', 'rescore']
    """
    beams = [b for b in ("pyctcdecode", "native") if b not in missing_backends()]
    specs = ["greedy", *beams]
    if with_lm:
        specs += [f"{b}+lm" for b in beams] + ["rescore"]
    return specs


def spec_labels(specs: Iterable[DecoderSpec]) -> list[str]:
    """The labels of ``specs``, checked to be unique.

    Example:
        >>> spec_labels([parse_decoder_spec("greedy"), parse_decoder_spec("native")])
        ['greedy', 'native']
    """
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise InputError(f"decoder specs must be unique, got {labels}")
    return labels
