"""docusign-agent: a LangGraph agent server for DocuSign eSignature."""

__version__ = "0.1.0"
