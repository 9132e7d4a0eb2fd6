"""The English spellings of every header ZE Trials reads; partner languages are data files (languages.py).

The first spelling of each field is the label used in messages. Add a spelling here, never a branch in code.
"""

from __future__ import annotations

from importers.languages import languages

# --- synonym tables (the first spelling of each field is the label used in messages) ---------------------------

MEASUREMENT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "trial_code": (
        "Trial code", "Trial", "Trial ID", "Trial no", "Trial number", "Project code", "Project", "Project ID",
        "Pilot", "Pilot code", "Pilot ID",
    ),
    "unit_id": (
        "Unit ID", "Unit", "Unit no", "Unit number", "Asset", "Asset ID", "Asset no", "Asset number", "Asset tag",
        "Vehicle", "Vehicle ID", "Vehicle no", "Vehicle number", "Hull", "Hull no", "Hull number", "Machine",
        "Machine ID", "Machine no", "Serial", "Serial no", "Serial number", "VIN", "Equipment ID", "Equipment no",
        "Fleet no", "Fleet number", "Fleet ID", "Truck", "Truck ID", "Truck no", "Crane", "Crane ID", "Crane no",
        "Vessel", "Vessel ID", "Vessel name", "Tug", "Registration", "Reg no", "Plate", "Licence plate",
        "License plate", "Device ID",
    ),
    "role": ("Role", "Unit role", "Trial or baseline", "Trial/baseline", "Baseline or trial", "Comparator"),
    "period": (
        "Date", "Day", "Period", "Reporting date", "Report date", "Reporting period", "Shift date", "Operating date",
        "Date of operation", "Day of operation", "Timestamp", "Date time",
    ),
    "period_start": (
        "Period start", "Start", "From", "Start date", "From date", "Date from", "Begin", "Start of period",
        "Period from", "Valid from", "Start time", "Shift start",
    ),
    "period_end": (
        "Period end", "End", "To", "End date", "To date", "Date to", "Until", "End of period", "Period to",
        "Valid to", "Through", "Thru", "End time", "Shift end",
    ),
    "operating_hours": (
        "Operating hours", "Engine hours", "Run hours", "Running hours", "Hours operated", "Hours", "Operating time",
        "Run time", "Hours of operation", "Working hours", "Active hours", "Key on hours", "Key-on time",
        "Usage hours", "Operation hours", "Utilisation hours", "Utilization hours",
    ),
    "energy_kwh": (
        "Energy", "Energy consumed", "Energy used", "Energy consumption", "Electricity", "Electricity consumed",
        "Electricity used", "Electricity consumption", "kWh charged", "kWh", "kWh used", "kWh consumed", "MWh",
        "Grid energy", "Charged energy", "Energy charged", "Charging energy", "Energy drawn", "Metered energy",
        "Charger energy", "Energy delivered", "Energy from grid", "Electric energy", "Electrical energy",
        "Power consumption",
    ),
    "hydrogen_kg": (
        "Hydrogen", "Hydrogen used", "Hydrogen consumed", "Hydrogen consumption", "Hydrogen dispensed", "H2",
        "H2 dispensed", "H2 used", "H2 consumed", "H2 consumption", "H2 refuelled", "H2 refueled",
        "Hydrogen refuelled", "Hydrogen refueled", "H2 fuel", "Hydrogen fuel",
    ),
    "diesel_l": (
        "Diesel", "Diesel used", "Diesel consumed", "Diesel consumption", "Diesel fuel", "Diesel dispensed",
        "Diesel burned", "Fuel volume", "Litres", "Liters", "Gallons",
    ),
    "distance_km": (
        "Distance", "Mileage", "Distance travelled", "Distance traveled", "Odometer distance", "Distance driven",
        "Distance sailed", "Km", "Kilometres", "Kilometers", "Miles", "Miles driven", "Km driven", "Trip distance",
        "Odometer delta", "Odometer difference",
    ),
    "moves": (
        "Moves", "Lifts", "Container moves", "Container lifts", "Box moves", "Boxes", "Boxes handled",
        "Containers handled", "Containers moved", "Number of moves", "No of moves", "Move count", "Moves count",
        "Lift count", "Number of lifts",
    ),
    "teu": ("TEU", "TEUs", "TEU handled", "TEU moved", "Number of TEU", "Twenty-foot equivalent units"),
    "cargo_tonnes": (
        "Cargo", "Cargo tonnes", "Cargo weight", "Cargo mass", "Cargo handled", "Tonnage", "Tonnes",
        "Tonnes handled",
    ),
    "scheduled_hours": (
        "Scheduled hours", "Planned hours", "Available hours", "Scheduled time", "Hours scheduled", "Hours available",
        "Shift hours", "Rostered hours", "Planned operating hours", "Scheduled operating hours",
    ),
    "downtime_hours": (
        "Downtime", "Unplanned downtime", "Down time", "Downtime hours", "Unplanned downtime hours",
        "Breakdown hours", "Breakdown time", "Hours down", "Out of service hours", "Unavailable hours", "Repair time",
    ),
    "charging_sessions": (
        "Charging sessions", "Charges", "Charge sessions", "Number of charges", "Charge events", "Charging events",
        "Charge count", "Charging count", "Plug-ins",
    ),
    "notes": ("Notes", "Note", "Comment", "Comments", "Remarks", "Remark", "Observations"),
    "reported_ghg_kg": (
        "Reported CO2e", "Reported GHG", "Reported emissions", "Reported CO2", "CO2e", "CO2", "CO2 emissions",
        "CO2e emissions", "GHG emissions", "GHG", "Emissions", "Carbon emissions",
    ),
    "reported_ghg_avoided_kg": (
        "Reported CO2e avoided", "Reported CO2 avoided", "Reported GHG avoided", "CO2 avoided", "CO2e avoided",
        "GHG avoided", "Emissions avoided", "Avoided emissions", "Avoided CO2", "Avoided CO2e", "CO2 saved",
        "CO2e saved", "CO2 savings", "CO2e savings", "GHG savings", "GHG reduction", "CO2 reduction",
        "CO2e reduction", "Emissions reduction", "Emission reduction", "Emissions saved", "Carbon saved",
        "Carbon savings",
    ),
    "reported_nox_avoided_kg": (
        "Reported NOx avoided", "NOx avoided", "NOx saved", "NOx savings", "NOx reduction", "Avoided NOx",
        "NOx emissions avoided",
    ),
}  # fmt: skip

#: Period headers that mean a whole calendar month: any date in such a column stands for its month.
MONTH_HEADERS: tuple[str, ...] = (
    "Month", "Reporting month", "Report month", "Billing month", "Calendar month", "Month of operation",
    "Period month",
)  # fmt: skip

#: Headers that name a fuel without saying which: the unit decides (litres are diesel, kilograms hydrogen).
FUEL_HEADERS: tuple[str, ...] = (
    "Fuel", "Fuel used", "Fuel consumption", "Fuel consumed", "Fuel dispensed", "Fuel burned", "Fuel burn",
)  # fmt: skip
FUEL_BY_UNIT_KIND: dict[str | None, str] = {None: "diesel_l", "volume": "diesel_l", "mass": "hydrogen_kg"}

#: Month and fuel headers in English and every partner language.
ALL_MONTH_HEADERS = MONTH_HEADERS + tuple(name for language in languages() for name in language.month_headers)
ALL_FUEL_HEADERS = FUEL_HEADERS + tuple(name for language in languages() for name in language.fuel_headers)

TRIAL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "code": (
        "Code", "Trial code", "Trial", "Trial ID", "Trial no", "Project code", "Project ID", "Pilot code",
        "Pilot ID", "ID",
    ),
    "name": ("Name", "Trial name", "Project name", "Pilot name", "Title", "Project", "Pilot"),
    "port": ("Port", "Port code", "LOCODE", "UN/LOCODE", "Port name"),
    "terminal": ("Terminal", "Terminal name", "Site", "Facility"),
    "equipment_class": (
        "Equipment class", "Class", "Equipment", "Equipment type", "Equipment category", "Machine type",
        "Vehicle type", "Asset type", "Asset class",
    ),
    "technology": (
        "Technology", "Powertrain", "Drivetrain", "Fuel type", "Propulsion", "Energy source", "Drive type",
        "Power source", "ZE technology", "Zero-emission technology",
    ),
    "units_planned": (
        "Units planned", "Units", "Number of units", "No of units", "Planned units", "Units in trial", "Fleet size",
        "Unit count", "Quantity", "Qty",
    ),
    "start_date": ("Start date", "Start", "From", "Begin", "Trial start", "Go-live", "Go-live date"),
    "end_date": ("End date", "End", "To", "Until", "Trial end", "Finish", "Completion date", "Planned end"),
    "status": ("Status", "Trial status", "State", "Stage"),
    "vendor": ("Vendor", "Manufacturer", "OEM", "Supplier", "Make", "Brand"),
    "model": ("Model", "Model name", "Product"),
    "funding": ("Funding", "Funding source", "Funder", "Funded by", "Grant", "Grant programme", "Grant program"),
    "baseline_rate": (
        "Baseline rate", "Baseline", "Baseline fuel rate", "Baseline consumption", "Baseline fuel consumption",
        "Diesel baseline", "Baseline diesel rate",
    ),
    "baseline_unit": ("Baseline unit", "Baseline rate unit", "Baseline units"),
    "baseline_source": ("Baseline source", "Baseline reference", "Source of baseline", "Baseline basis"),
    "rated_power_kw": ("Rated power", "Power", "Engine power", "Motor power", "Power rating", "Rated output"),
    "load_factor": ("Load factor", "LF", "Average load factor"),
    "market_factor_g_per_kwh": (
        "Market-based factor", "Market factor", "Market-based emission factor", "Market emission factor",
        "Market-based grid factor", "Market-based grid intensity", "PPA factor", "Supplier emission factor",
        "Contract emission factor",
    ),
    "baseline_kind": ("Baseline kind", "Baseline type", "Compared against", "Comparator type", "Baseline machine"),
    "hydrogen_pathway": (
        "Hydrogen pathway", "H2 pathway", "Hydrogen production", "Hydrogen production pathway",
        "Hydrogen origin", "H2 production",
    ),
    "hydrogen_factor_kg_per_kg": (
        "Hydrogen factor", "H2 factor", "Hydrogen emission factor", "Hydrogen carbon intensity", "H2 emission factor",
        "Hydrogen CO2e factor",
    ),
    "hydrogen_factor_source": (
        "Hydrogen factor source", "H2 factor source", "Source of hydrogen factor", "Hydrogen factor reference",
    ),
    "baseline_engine": (
        "Baseline engine", "Baseline engine standard", "Engine standard", "Engine tier", "Emission standard",
        "Baseline tier",
    ),
    "visibility": ("Visibility", "Sharing", "Shared with", "Share with", "Access"),
    "notes": ("Notes", "Note", "Comment", "Comments", "Remarks", "Remark", "Observations"),
}  # fmt: skip
