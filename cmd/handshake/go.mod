module github.com/argoproj-labs/rollouts-plugin-trafficrouter-alb/cmd/handshake

go 1.22
