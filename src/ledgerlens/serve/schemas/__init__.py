"""The API's request and response models (pydantic v2): strict inputs, amounts as strings."""
