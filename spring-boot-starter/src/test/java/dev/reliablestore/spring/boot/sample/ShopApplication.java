package dev.reliablestore.spring.boot.sample;

import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;

/** The sample of docs/spring.md, from the annotation to the end of the file (SpringSampleTest checks the page shows it). */
@SpringBootApplication
public class ShopApplication {

    public record Customer(String name, String tier) {}

    @Bean
    EntityStore<Customer> customers(StoreFactory stores) {
        return stores.store(Customer.class);
    }

    @Bean
    ApplicationRunner onboard(EntityStore<Customer> customers) {
        return args -> customers.save("CUST-001", new Customer("Acme Corp", "PREMIUM"));
    }
}
