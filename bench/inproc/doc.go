// Package inproc holds the in-process benchmarks of the suite (`go test
// -bench` in this directory; bench/run runs them and reads their output).
// Each n2n figure has its floor beside it, built from the same libraries
// without n2n's layers:
//
//	P3  BenchmarkP3RoundTrip   n2n request/response on a warm connection vs a 100 B echo on an open libp2p stream
//	P4  BenchmarkP4Messages    100 B messages per second, each acknowledged
//	P5  BenchmarkP5Throughput  1 MiB per request vs 1 MiB written on a libp2p stream
//	P7  BenchmarkP7Handshake   CPU of one Noise IK handshake, both sides
//	P9  BenchmarkP9Open, BenchmarkP9Verify   a chain of 1 000 000 actions
//
// Every host listens on 127.0.0.1 only.
package inproc
