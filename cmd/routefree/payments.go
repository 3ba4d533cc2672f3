package main

import (
	"fmt"
	"time"

	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay"
)

// paymentSettings are the top-ups' settings, from the environment or the
// config file: no flag carries the merchant's keys, which would show in
// process lists.
var paymentSettings = []string{ecpay.EnvMerchantID, ecpay.EnvHashKey, ecpay.EnvHashIV, ecpay.EnvEndpoint,
	payments.EnvPublicURL, payments.EnvCardPayWindow}

// openPayments offers card and ATM top-ups when the settings name an ECPay
// merchant (ROUTEFREE_ECPAY_*).
func (in *instance) openPayments() error {
	getenv := in.cfg.Getenv
	m, ok, err := ecpay.FromEnv(getenv)
	if err != nil {
		return fmt.Errorf("payments: %w", err)
	}
	if !ok {
		return nil
	}
	cfg := payments.Config{Merchant: m, PublicURL: getenv(payments.EnvPublicURL)}
	if v := getenv(payments.EnvCardPayWindow); v != "" {
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
