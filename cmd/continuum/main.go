// Command continuum runs the care-continuum tracker: the web application
// (serve), an EventStoreDB-protocol store (eventstore), the simulator,
// outcomes reports, imports and benchmarks. This file only parses the
// subcommand, handles signals and turns errors into exit codes; each
// subcommand's wiring lives in its own file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: run gets the arguments after its name.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists every subcommand; each file adds its own entry here.
var commands = map[string]command{
	"serve":      {summary: "run the web application (census board, journeys, API) on the embedded store or --store esdb://…", run: runServe},
	"eventstore": {summary: "serve the embedded store over the EventStoreDB/KurrentDB gRPC protocol (esdb://…)", run: runEventstore},
	"bench":      {summary: "measure the disk, the store and replay; --json prints one JSON object", run: runBench},
	"outcomes":   {summary: "replay the log (or up to --as-of) into outcome figures: --format json|csv|html", run: runOutcomes},
	"simulate":   {summary: "write a simulated history through the real command path: --data DIR --days N [--seed S] [--start DATE]", run: runSimulate},
	"import":     {summary: "import episodes from other systems' files: import tedsd --data DIR FILE…", run: runImport},
	"backup":     {summary: "download a verified, consistent copy of a running server's embedded store (--addr, --out)", run: runBackup},
	"restore":    {summary: "replace a stopped server's embedded store with a backup (--data DIR FILE); projections rebuild", run: runRestore},
	"compact":    {summary: "rewrite a stopped server's embedded store file in log order (--data DIR): replays read it front to back", run: runCompact},
	"rebuild":    {summary: "replay the whole log into fresh projections while the server is stopped, reporting events/s", run: runRebuild},
	"users":      {summary: "add or list users and their roles: users add --name NAME --role ROLE (password on stdin) | users list", run: runUsers},
	"token":      {summary: "issue an API token for a user: token create --user NAME (offline, or --addr as an admin)", run: runToken},
	"audit":      {summary: "print the access audit, newest first: --patient ID, --user NAME, --action A (offline, or --addr)", run: runAudit},
	"forget":     {summary: "erase a person by destroying their key (crypto-shredding): forget PATIENT_ID (--addr, or offline)", run: runForget},
}

// errUsage marks a bad command line: exit status 2 after the usage text.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and maps its error to an exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "continuum: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		// A bare errUsage was explained already; a wrapped one says why.
		if err != errUsage {
			fmt.Fprintf(stderr, "continuum %s: %v\n", args[0], err)
		}
		return 2
	default:
		fmt.Fprintf(stderr, "continuum %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: continuum <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-11s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "\nRun 'continuum <command> -h' for its flags.")
}

// newFlagSet returns a flag set that reports errors instead of exiting, so
// run can choose the exit status.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("continuum "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, mapping a bad command line to errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	return nil
}
