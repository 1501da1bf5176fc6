// Command etcd is the test cluster's etcd, built from the go.etcd.io/etcd/server/v3 module
// (scripts/cluster/ensure-tools.sh). The etcd repository's own main package lives in a module
// whose go.mod carries replace directives, so `go install` cannot build it; this wrapper calls
// the same entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
