package dev.reliablestore.examples.shop;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;

/**
 * Customers and their orders in ReliableStore, invoices in an H2 database, one JTA transaction
 * over both ({@link OrderService#place}). Nothing here configures ReliableStore: the starter opens
 * the StoreFactory from application.properties, the repositories of this package are found
 * without an annotation, and tx-narayana on the class path makes {@code @Transactional} a JTA
 * transaction over Narayana.
 */
@SpringBootApplication
public class ShopApplication {

    /**
     * Repositories' stores are not beans; one store bean is what feeds the {@code reliableStore}
     * health indicator (the factory's health checks), the store events and the meters.
     */
    @Bean
    EntityStore<Customer> customerStore(StoreFactory stores) {
        return stores.store(Customer.class);
    }

    public static void main(String[] args) {
        SpringApplication.run(ShopApplication.class, args);
    }
}
