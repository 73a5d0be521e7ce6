package dev.reliablestore.examples.shop;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.CommandLineRunner;
import org.springframework.stereotype.Component;

/** At start-up: creates the demo customer once and reports what the shop holds. */
@Component
public class ShopRunner implements CommandLineRunner {

    private static final Logger LOG = LoggerFactory.getLogger(ShopRunner.class);
    static final String DEMO_CUSTOMER = "DEMO-1";

    private final Customers customers;
    private final Orders orders;

    public ShopRunner(Customers customers, Orders orders) {
        this.customers = customers;
        this.orders = orders;
    }

    @Override
    public void run(String... args) {
        if (!customers.existsById(DEMO_CUSTOMER)) {
            customers.save(new Customer(DEMO_CUSTOMER, "Demo Corp", 100_000));
        }
        LOG.info("the shop holds {} customers and {} orders", customers.count(), orders.count());
    }
}
