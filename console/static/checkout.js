// Posts the checkout form to the payment provider as soon as the page
// loads; the button stays for a browser that blocks it.
document.getElementById("provider-form").submit();
