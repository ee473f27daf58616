"""Language models for ctcdecode_kit (imported as ``ctcdecode_kit.lm``)."""
