"""Beside the flow: hand results to MLflow or TensorBoard, save a recipe's model."""
