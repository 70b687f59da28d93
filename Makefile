# Convenience targets; the README names the exact commands.
.PHONY: build test bench local

build:
	go build -o bin/ ./producer ./consumer ./cmd/...

test:
	go test -race -count=1 -timeout 30m ./...

bench:
	go test ./internal/producer -run '^$$' -bench . -benchtime 3x
	go test ./internal/duckdbsink -run '^$$' -bench 'BenchmarkUpsert|BenchmarkBulkLoadBaseline' -benchtime 40x
	go test ./internal/postgressink -run '^$$' -bench . -benchtime 5x
	go test ./consumer -run '^$$' -bench ReplayMemory -benchtime 1x

local:
	go run ./cmd/local
