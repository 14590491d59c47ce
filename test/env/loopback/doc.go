// Package loopback reserves a block of loopback addresses, 127.B.0.0/16, for
// one local world, so that two worlds started by parallel test binaries never
// bind the same address. The reservation is an exclusive flock on a file
// under the system temporary directory, held for as long as the Block is
// open (a crashed process releases it with its file descriptors). Linux
// routes the whole of 127.0.0.0/8 to the loopback interface, so every address
// of the block can be bound without configuration; Reserve checks it.
package loopback
