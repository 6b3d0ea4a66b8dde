"""crewbench's Streamlit pages (``streamlit run app.py``), one module per page.

Pages only collect input, call crewbench's core and display the result; shared resources and
cached queries live in ``state``, background experiments in ``jobs``.
"""

__all__: list[str] = []
