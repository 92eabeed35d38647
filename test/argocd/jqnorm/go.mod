module github.com/argoproj-labs/rollouts-plugin-trafficrouter-alb/test/argocd/jqnorm

go 1.26.1

require github.com/itchyny/gojq v0.12.19

require github.com/itchyny/timefmt-go v0.1.8 // indirect
