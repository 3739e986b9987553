"""Cases on the national closed loop: the workflow steps and the screens' reads."""
