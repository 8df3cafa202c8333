"""The options that point a command at a local LLM (``--llm URL --llm-model NAME``), shared by
``beicoder suggest`` and ``beicoder evaluate``, and the lines they print while it works.
Imports nothing heavy: the openai client loads only when a request is made."""

from __future__ import annotations

import click

from ..core import BeicoderError


def llm_options(command):
    """Add --llm, --llm-model, --allow-remote, --llm-timeout and --llm-concurrency; the command
    receives them as keyword arguments and builds the config with :func:`llm_config`."""
    options = [
        click.option("--llm", "llm_url", metavar="URL", default=None,
                     help="Also ask the language model served at this OpenAI-compatible endpoint "
                          "(Ollama: http://127.0.0.1:11434/v1; llama.cpp: http://127.0.0.1:8080/v1)."),
        click.option("--llm-model", metavar="NAME", default=None, help="The model to ask, as the server names it."),
        click.option("--allow-remote", is_flag=True,
                     help="Let --llm send passages to a host outside this machine and the private networks."),
        click.option("--llm-timeout", type=click.FloatRange(0, min_open=True), default=120.0, show_default=True,
                     help="Seconds to wait for each reply."),
        click.option("--llm-concurrency", type=click.IntRange(1, 64), default=2, show_default=True,
                     help="Requests to the LLM at once."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def llm_config(llm_url, llm_model, allow_remote, llm_timeout, llm_concurrency):
    """The :class:`~beicoder.core.suggest.llm.LlmConfig` the options describe, or None without
    --llm; the endpoint is checked at once (a remote host is refused here, before any work).

    Raises:
        BeicoderError: --llm without --llm-model or the reverse, a bad URL, a remote host
            without --allow-remote.
    """
    if not llm_url:
        if llm_model or allow_remote:
            raise BeicoderError("--llm-model and --allow-remote go with --llm URL")
        return None
    if not llm_model:
        raise BeicoderError("--llm URL needs --llm-model NAME (the model as the server names it)")
    from ..core.suggest.llm import LlmConfig, check_endpoint

    config = LlmConfig(url=llm_url, model=llm_model, allow_remote=allow_remote, timeout=llm_timeout,
                       concurrency=llm_concurrency)
    check_endpoint(config.url, config.allow_remote)
    return config


def notice(text: str) -> None:
    """Print the first-use notice (what is sent and where) on stderr."""
    click.echo(f"beicoder: {text}", err=True)
