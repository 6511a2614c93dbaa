"""The book's one LLM provider stand-in: OpenAI and Anthropic answered locally, through the
official clients' own HTTP transport hook.

**This is a stand-in, not a provider.** It answers ``openai`` (chat completions, responses)
and ``anthropic`` (messages) requests, streamed or not, with realistic usage bodies (cache reads
and writes, reasoning), configurable latency and errors, deterministic per seed. It plugs in as
the client's ``http_client=``; everything after it is the real client object, so Revenium's
middleware (which patches the client's ``create`` methods) meters it like a real call.

Going live is removing the stand-in and setting real keys, nothing else:

.. code-block:: python

    # stand-in
    client = openai.OpenAI(api_key="sk-stand-in", http_client=StandIn().http_client())
    # real provider (OPENAI_API_KEY in the environment)
    client = openai.OpenAI()

``StandIn(...).serve()`` runs the same stand-in behind a loopback socket for clients that only
take a ``base_url`` (going live is then dropping ``base_url=``).

Example:
    >>> import openai
    >>> from showcase_lib.stand_in import StandIn
    >>> client = openai.OpenAI(api_key="sk-stand-in", http_client=StandIn().http_client())
    >>> chunks = list(client.chat.completions.create(
    ...     model="gpt-5.4-mini", messages=[{"role": "user", "content": "Hi"}],
    ...     stream=True, stream_options={"include_usage": True}))
    >>> chunks[-1].usage.prompt_tokens_details.cached_tokens
    1536
"""

from showcase_lib.stand_in._config import StandIn

__all__ = ["StandIn"]
