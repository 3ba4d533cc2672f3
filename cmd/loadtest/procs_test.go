package main

import (
	"runtime"
	"testing"
	"time"
)

func TestMachineSpentPerRequest(t *testing.T) {
	// 5 s on two CPUs: 1,000 ticks, 880 busy and 120 idle, over 20,000 requests.
	got := machineSpent(machine{busy: 100, idle: 900}, machine{busy: 980, idle: 1020}, 20000)
	if got.cpu != 440*time.Microsecond || got.idle != 0.12 {
		t.Fatalf("machineSpent = %v, %.3f idle; want 440µs, 0.120", got.cpu, got.idle)
	}
	if z := machineSpent(machine{}, machine{busy: 10}, 0); z != (boxSpent{}) {
		t.Fatalf("no requests: %+v", z)
	}
}

func TestMachineNowAdvances(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/stat is Linux's")
	}
	a, err := machineNow()
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	b, err := machineNow()
	if err != nil {
		t.Fatal(err)
	}
	if b.busy <= a.busy || b.idle < a.idle {
		t.Fatalf("after 50 ms of work: busy %d → %d, idle %d → %d", a.busy, b.busy, a.idle, b.idle)
	}
}
