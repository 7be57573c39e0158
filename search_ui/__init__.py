"""The Streamlit app: pages and view helpers only; all logic lives in fonds/."""
