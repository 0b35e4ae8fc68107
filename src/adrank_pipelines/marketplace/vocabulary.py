"""The words of the simulated world: categories, their themes, offers and creative templates.

Each category has four themes with their own keywords, so an ad's wording says more than its
category: users have tastes over themes (a latent vector), and offers appeal differently to
price-sensitive users. A text encoder can pick both up; an ad id alone cannot for a new ad.
"""

from __future__ import annotations

THEMES: dict[str, dict[str, tuple[str, ...]]] = {
    "racing": {
        "supercars": ("supercar", "turbo", "v8 engine", "track day", "horsepower"),
        "motorbikes": ("motorbike", "superbike", "helmet", "throttle", "two wheels"),
        "kart": ("go-kart", "kart track", "lap times", "drift", "pit stop"),
        "rally": ("rally", "off-road", "gravel", "4x4", "mud"),
    },
    "fashion": {
        "streetwear": ("sneakers", "hoodie", "streetwear", "drop", "oversized tee"),
        "luxury": ("designer", "couture", "silk", "handbag", "runway"),
        "sustainable": ("organic cotton", "recycled", "ethical", "linen", "slow fashion"),
        "sportswear": ("leggings", "running shoes", "activewear", "sports bra", "tracksuit"),
    },
    "puzzle": {
        "match3": ("match-3", "candy", "combo", "swap", "sweet levels"),
        "logic": ("sudoku", "logic grid", "brain teaser", "nonogram", "riddle"),
        "words": ("crossword", "word search", "anagram", "letters", "spelling"),
        "jigsaw": ("jigsaw", "pieces", "landscape puzzle", "picture", "relaxing"),
    },
    "rpg": {
        "fantasy": ("dragon", "quest", "sword", "elves", "magic spells"),
        "scifi": ("starship", "galaxy", "cyborg", "space station", "laser"),
        "anime": ("anime heroes", "gacha", "summon", "waifu", "manga story"),
        "survival": ("zombie", "survival", "crafting", "base building", "wasteland"),
    },
    "strategy": {
        "empire": ("empire", "kingdom", "conquest", "castle", "army"),
        "tower_defense": ("tower defense", "waves", "turrets", "defend", "upgrade towers"),
        "chess": ("chess", "checkmate", "grandmaster", "opening", "tactics"),
        "card_battle": ("card battle", "deck", "legendary cards", "duel", "arena"),
    },
    "finance": {
        "investing": ("stocks", "etf", "portfolio", "dividends", "invest"),
        "banking": ("bank account", "savings", "debit card", "no fees", "interest rate"),
        "insurance": ("insurance", "coverage", "premium", "claims", "protection"),
        "budgeting": ("budget app", "expenses", "save money", "bills", "spending"),
    },
    "travel": {
        "beach": ("beach", "island", "resort", "snorkeling", "sunset"),
        "city_break": ("city break", "museum", "boutique hotel", "old town", "weekend"),
        "adventure": ("hiking", "safari", "trek", "mountains", "backpacking"),
        "cruise": ("cruise", "ocean liner", "all-inclusive", "ports", "cabin"),
    },
    "fitness": {
        "gym": ("gym", "weights", "protein", "muscle", "personal trainer"),
        "yoga": ("yoga", "meditation", "mindfulness", "stretching", "mat"),
        "running": ("marathon", "5k", "running club", "pace", "trail run"),
        "home_workout": ("home workout", "hiit", "dumbbells", "fitness app", "abs"),
    },
    "food": {
        "delivery": ("food delivery", "takeaway", "pizza", "burgers", "order tonight"),
        "meal_kits": ("meal kit", "recipes", "fresh ingredients", "chef", "weekly box"),
        "vegan": ("vegan", "plant-based", "tofu", "oat milk", "meat-free"),
        "coffee": ("coffee", "espresso", "beans", "barista", "roast"),
    },
    "beauty": {
        "skincare": ("skincare", "serum", "moisturizer", "retinol", "glow"),
        "makeup": ("lipstick", "mascara", "foundation", "palette", "eyeliner"),
        "haircare": ("shampoo", "hair mask", "curls", "salon", "conditioner"),
        "fragrance": ("perfume", "fragrance", "scent", "eau de parfum", "notes of vanilla"),
    },
    "electronics": {
        "phones": ("smartphone", "5g", "camera phone", "battery life", "unlocked"),
        "laptops": ("laptop", "ultrabook", "ssd", "processor", "thin and light"),
        "audio": ("headphones", "earbuds", "noise cancelling", "speaker", "bass"),
        "smart_home": ("smart home", "thermostat", "doorbell camera", "voice assistant", "smart plug"),
    },
    "sports": {
        "football": ("football", "jersey", "stadium", "season ticket", "goal"),
        "basketball": ("basketball", "hoops", "dunk", "court", "playoffs"),
        "tennis": ("tennis", "racket", "grand slam", "serve", "clay court"),
        "fantasy_sports": ("fantasy league", "draft", "lineup", "points", "matchday"),
    },
    "music": {
        "streaming": ("music streaming", "playlists", "ad-free", "offline listening", "podcasts"),
        "concerts": ("concert", "tickets", "live tour", "festival", "front row"),
        "instruments": ("guitar", "piano", "lessons", "chords", "drum kit"),
        "vinyl": ("vinyl", "record player", "limited pressing", "turntable", "albums"),
    },
    "education": {
        "languages": ("learn spanish", "language app", "fluent", "vocabulary", "speaking"),
        "coding": ("coding bootcamp", "python", "web developer", "javascript", "career change"),
        "degrees": ("online degree", "university", "mba", "diploma", "accredited"),
        "kids": ("kids learning", "math games", "reading", "homework help", "tutors"),
    },
    "pets": {
        "dogs": ("dog food", "puppy", "leash", "dog treats", "walkies"),
        "cats": ("cat food", "kitten", "litter", "scratching post", "catnip"),
        "aquarium": ("aquarium", "tropical fish", "tank", "filter", "coral"),
        "pet_health": ("vet", "pet insurance", "flea treatment", "vitamins", "checkup"),
    },
    "home_garden": {
        "furniture": ("sofa", "furniture", "dining table", "mattress", "bookshelf"),
        "garden": ("garden", "plants", "seeds", "lawn mower", "flowers"),
        "diy": ("power drill", "diy", "tools", "renovation", "paint"),
        "decor": ("decor", "candles", "rugs", "wall art", "cushions"),
    },
    # Appears only in the drift window: a new campaign category.
    "crypto": {
        "exchanges": ("crypto exchange", "bitcoin", "trade coins", "wallet", "altcoins"),
        "nft": ("nft", "digital art", "mint", "collectibles", "metaverse"),
        "defi": ("defi", "staking", "yield", "tokens", "liquidity"),
        "mining": ("mining rig", "hash rate", "gpu mining", "blocks", "rewards"),
    },
}

DRIFT_CATEGORY = "crypto"
BASE_CATEGORIES: tuple[str, ...] = tuple(c for c in THEMES if c != DRIFT_CATEGORY)
ALL_CATEGORIES: tuple[str, ...] = (*BASE_CATEGORIES, DRIFT_CATEGORY)
THEME_NAMES: tuple[tuple[str, str], ...] = tuple(
    (category, theme) for category in ALL_CATEGORIES for theme in THEMES[category]
)

# (phrase, kind): the kind decides whom the offer appeals to (see ground_truth.offer_effect).
OFFERS: tuple[tuple[str, str], ...] = (
    ("50% off today", "discount"),
    ("free shipping on all orders", "discount"),
    ("save 30% this week", "discount"),
    ("start your free trial", "trial"),
    ("try it free for 30 days", "trial"),
    ("new collection just dropped", "novelty"),
    ("the latest release is here", "novelty"),
    ("premium quality, made to last", "premium"),
    ("award-winning and trusted by experts", "premium"),
    ("limited time only", "urgency"),
    ("last chance, ends tonight", "urgency"),
    ("join millions of happy customers", "social"),
)
OFFER_KINDS: tuple[str, ...] = ("discount", "trial", "novelty", "premium", "urgency", "social")

ADJECTIVES: tuple[str, ...] = (
    "amazing",
    "smart",
    "bold",
    "fresh",
    "essential",
    "ultimate",
    "easy",
    "brilliant",
    "classic",
    "modern",
)
CALLS_TO_ACTION: tuple[str, ...] = (
    "Shop now",
    "Download today",
    "Sign up in seconds",
    "Book now",
    "Learn more",
    "Get started",
)
# Low-clarity creatives use filler instead of theme keywords: less signal, lower true quality.
FILLER_PHRASES: tuple[str, ...] = (
    "best deals online",
    "click here for more",
    "you will not believe it",
    "top offers for you",
    "great stuff at great prices",
    "everything you need",
)
BRAND_PREFIXES: tuple[str, ...] = (
    "Vel",
    "Nova",
    "Zen",
    "Aur",
    "Kai",
    "Lum",
    "Tor",
    "Qui",
    "Bri",
    "Sol",
    "Mar",
    "Pix",
    "Ori",
    "Fen",
    "Jax",
    "Rho",
)
BRAND_SUFFIXES: tuple[str, ...] = (
    "ora",
    "ix",
    "ly",
    "io",
    "ex",
    "ana",
    "ify",
    "wave",
    "hub",
    "nest",
    "core",
    "labs",
    "go",
    "mint",
    "ara",
    "on",
)

# Offer kind -> (base logit effect, slope on the user's price sensitivity); scaled by offer_weight.
OFFER_CLICK_EFFECTS: dict[str, tuple[float, float]] = {
    "discount": (-0.1, 0.6),
    "trial": (0.1, 0.25),
    "novelty": (0.05, -0.3),
    "premium": (0.0, -0.6),
    "urgency": (-0.15, 0.15),
    "social": (0.05, 0.0),
}
OFFER_CONVERSION_EFFECTS: dict[str, tuple[float, float]] = {
    "discount": (0.1, 0.4),
    "trial": (0.3, 0.1),
    "novelty": (-0.1, -0.2),
    "premium": (-0.2, -0.5),
    "urgency": (0.05, 0.2),
    "social": (0.0, 0.0),
}
