// Command kube-sandbox is one multi-call binary holding a whole Kubernetes
// control plane: embedded etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kubectl, plus a small certificate generator. The
// component is picked by the name it is called as (argv[0], e.g. through a
// symlink named kubectl) or else by its first argument:
//
//	kube-sandbox kube-apiserver --etcd-servers=...
//	kubectl get nodes            (symlink to kube-sandbox)
//
// Each component runs in its own process, started by scripts/sandbox-lib.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	_ "time/tzdata" // CronJob time zones, as in the upstream kube-apiserver main

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

const self = "kube-sandbox"

var components = map[string]func() int{
	"etcd":                    runEtcd,
	"certs":                   runCerts,
	"kube-apiserver":          func() int { return cli.Run(apiserver.NewAPIServerCommand()) },
	"kube-controller-manager": func() int { return cli.Run(controllermanager.NewControllerManagerCommand()) },
	"kube-scheduler":          func() int { return cli.Run(scheduler.NewSchedulerCommand()) },
	"kubectl":                 runKubectl,
}

func main() {
	name := filepath.Base(os.Args[0])
	if _, ok := components[name]; !ok {
		if len(os.Args) < 2 {
			usage()
			os.Exit(2)
		}
		name = os.Args[1]
		// The components parse os.Args themselves (cobra, kubectl plugins), so
		// make it look as if they had been called by their own name.
		os.Args = append([]string{name}, os.Args[2:]...)
	}
	run, ok := components[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: unknown component %q\n", self, name)
		usage()
		os.Exit(2)
	}
	os.Exit(run())
}

func runKubectl() int {
	// As upstream cmd/kubectl: set verbosity before the command is built.
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) //nolint:errcheck
	if err := cli.RunNoErrOutput(kubectlcmd.NewDefaultKubectlCommand()); err != nil {
		kubectlutil.CheckErr(err)
	}
	return 0
}

func usage() {
	names := make([]string, 0, len(components))
	for n := range components {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: %s <%s> [flags]\n", self, strings.Join(names, "|"))
}
