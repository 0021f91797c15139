module csrsigner/benchgoissuer

go 1.19
