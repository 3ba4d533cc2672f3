// Command fakeecpay is a fake ECPay cashier for trying card and ATM
// top-ups without ECPay: it takes the checkout form from a customer's
// browser, checks its CheckMacValue as ECPay does, and on "pay" sends the
// signed notifications to the gateway. It signs with ECPay's published
// test merchant unless told otherwise.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/routefree/routefree/payments/ecpay"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on")
	base := flag.String("url", "http://localhost:8090", "the cashier's address as browsers reach it")
	flag.Parse()
	id, key, iv := ecpay.TestMerchantID, ecpay.TestHashKey, ecpay.TestHashIV
	p := ecpaytest.NewProvider(id, key, iv, *base)
	fmt.Fprintf(os.Stderr, "fake ECPay cashier on %s; run the gateway with:\n"+
		"  %s=%s %s=%s %s=%s %s=%s routefree serve\n",
		*listen, ecpay.EnvMerchantID, id, ecpay.EnvHashKey, key, ecpay.EnvHashIV, iv, ecpay.EnvEndpoint, p.Endpoint())
	srv := &http.Server{Addr: *listen, Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
