package main

import (
	"fmt"
	"os"
	"time"

	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay"
)

// openPayments offers card and ATM top-ups when the environment names an
// ECPay merchant (ROUTEFREE_ECPAY_*). The merchant's keys are read from the
// environment only: no flag or config file carries them.
func (in *instance) openPayments() error {
	m, ok, err := ecpay.FromEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("payments: %w", err)
	}
	if !ok {
		return nil
	}
	cfg := payments.Config{Merchant: m, PublicURL: os.Getenv(payments.EnvPublicURL)}
	if v := os.Getenv(payments.EnvCardPayWindow); v != "" {
		if cfg.CardPayWindow, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("payments: %s %q is not a duration (90m, 2h)", payments.EnvCardPayWindow, v)
		}
	}
	in.payments, err = payments.New(cfg,
		payments.Deps{Store: in.store, Commands: in.cmds, View: in.payView, Logger: in.log, WaitFor: in.runner.WaitFor})
	if err != nil {
		return err
	}
	in.log.Info("card and ATM top-ups through ECPay", "merchant_id", m.MerchantID, "endpoint", m.Endpoint)
	return nil
}
