"""Field attention (AutoInt-style) over the tabular model inputs: the deep model of any click log."""
