module csrsigner/oracle

go 1.19
