module continuum-bench-peers

go 1.26.8

require (
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	golang.org/x/sys v0.49.0 // indirect
	modernc.org/libc v1.79.0 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)

require (
	github.com/continuum-care/continuum v0.0.0
	github.com/hallgren/eventsourcing v0.9.1
	github.com/hallgren/eventsourcing/core v0.5.2
	github.com/hallgren/eventsourcing/eventstore/sql v0.7.0
	modernc.org/sqlite v1.61.1
)

replace github.com/continuum-care/continuum => ../..
