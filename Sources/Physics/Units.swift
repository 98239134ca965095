extension Double {
    /// This value in W (or Wh) as kW (or kWh). The devices, their profiles and the physics speak W and Wh; the market,
    /// the bus and the reports speak kW and kWh. The one place the factor between them is written.
    @inlinable public var inKilo: Double { self / 1000 }

    /// This value in % as a fraction (50 % is 0.5): a state of charge, a rate or limit of rated power, a voltage of
    /// nominal, as profiles, registers and rigs give them. The one place the factor is written.
    @inlinable public var fromPercent: Double { self / 100 }
}
