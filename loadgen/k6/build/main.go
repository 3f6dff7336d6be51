// The k6 binary as xk6 would generate it: k6's own command, plus the import of each extension listed here.
// xk6 itself (go.k6.io/xk6, github.com/grafana/xk6) is not served by the Go module proxy this project can reach,
// so scripts/k6-build.ts does its job: pin k6 in go.mod and go build.
package main

import k6cmd "go.k6.io/k6/cmd"

func main() {
	k6cmd.Execute()
}
