"""The null agent's model: a fixed final answer, no provider, no tokens, no cost.

A control arm must not depend on a model's skill (the simulator would answer right at its
profile's accuracy), so the null agent gets this LLM whatever the experiment's model is.
"""

from __future__ import annotations

from crewbench.compat.hygiene import import_crewai

__all__ = ["fixed_llm"]


def fixed_llm(answer: str):
    import_crewai()
    from crewai.llms.base_llm import BaseLLM

    class FixedLLM(BaseLLM):
        llm_type: str = "fixed"
        provider: str = "fixed"

        def supports_function_calling(self) -> bool:
            return False

        def supports_stop_words(self) -> bool:
            return True

        def get_context_window_size(self) -> int:
            return 8192

        def get_input_tokens_count(self, messages, tools=None, response_model=None) -> int:
            return 0    # it reads nothing; also keeps CrewAI from warning about an estimate

        def call(self, messages, tools=None, callbacks=None, available_functions=None,
                 from_task=None, from_agent=None, response_model=None):
            return f"Thought: I answer without doing the work.\nFinal Answer: {answer}"

        async def acall(self, messages, tools=None, callbacks=None, available_functions=None,
                        from_task=None, from_agent=None, response_model=None):
            return self.call(messages)

    return FixedLLM(model="fixed/null")
