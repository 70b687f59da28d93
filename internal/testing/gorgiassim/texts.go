package gorgiassim

// Text pools for generated objects. Placeholders: {order} order number,
// {first} customer first name, {agent} agent first name, {product} product.

var firstNames = []string{
	"Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Lucas", "Isabella", "Mateo",
	"Mia", "Levi", "Amelia", "Ethan", "Harper", "James", "Evelyn", "Leo", "Chloe", "Hugo",
	"Camille", "Louis", "Léa", "Jonas", "Hannah", "Felix", "Lena", "Paul", "Lucía", "Diego",
	"Sofia", "Marco", "Giulia", "Omar", "Aisha", "Yuki", "Kenji", "Priya", "Arjun", "Zoe",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martinez", "Lopez",
	"Wilson", "Anderson", "Thomas", "Moore", "Martin", "Lee", "Thompson", "White", "Harris", "Clark",
	"Dubois", "Lefèvre", "Moreau", "Müller", "Schmidt", "Schneider", "Rossi", "Russo", "Fernández", "Santos",
	"Nakamura", "Tanaka", "Patel", "Sharma", "Khan", "Nguyen", "Kim", "Novak", "Jensen", "O'Brien",
}

var mailDomains = []string{"gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "hotmail.com", "gmx.de", "orange.fr"}

var languages = []string{"en", "en", "en", "en", "en", "en", "fr", "de", "es", "it"}

var timezones = []string{
	"UTC", "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London",
	"Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Australia/Sydney", "Asia/Tokyo",
}

var customerNotes = []string{
	"Prefers email over phone.",
	"Wholesale inquiry in 2025, sent to sales.",
	"Asked not to receive marketing SMS.",
	"Frequent buyer, very polite.",
	"Had two lost parcels with the same carrier; ship signature-required.",
	"Influencer, forward collaboration requests to marketing.",
	"Allergic to wool blends, suggest cotton alternatives.",
}

var products = []string{
	"Merino crew sweater", "Linen button-down shirt", "Trail running shoes", "Canvas weekender bag",
	"Organic cotton hoodie", "Wool beanie", "Slim fit chinos", "Waterproof rain jacket",
	"Leather card wallet", "Bamboo socks (3-pack)",
}

// topic is a kind of support conversation.
type topicT struct {
	intent   string
	tag      int // index into the tag pool
	subject  string
	customer []string
	agent    []string
	reason   string // value of the "Contact reason" ticket field
}

var topics = []topicT{
	{
		intent: "order/status", tag: 0, subject: "Where is my order #{order}?", reason: "Order::Status",
		customer: []string{
			"I placed order #{order} last week and the tracking page has not moved for four days. Could you tell me where my package is? I need it before the weekend.",
			"Any news on order #{order}? The tracking still says 'label created' and nobody picks up at the carrier.",
			"My order #{order} shows as delivered but there is nothing at my door or with my neighbours. What can I do?",
		},
		agent: []string{
			"Thanks for reaching out! I checked order #{order}: it left our warehouse yesterday and the first carrier scan should appear within 24 hours. You can follow it here: https://track.example.com/{order}",
			"I am sorry about the wait. The carrier confirmed a delay in your area; order #{order} is expected within 2 to 3 business days. I have added a note to keep an eye on it.",
			"I have opened an investigation with the carrier for order #{order}. If it does not turn up within 48 hours we will reship it at no cost.",
		},
	},
	{
		intent: "order/refund", tag: 1, subject: "Refund for order #{order}", reason: "Return::Refund",
		customer: []string{
			"I sent back the {product} from order #{order} two weeks ago and still have not seen the refund. Can you check?",
			"Hello, I would like a refund for order #{order}, the {product} does not fit at all.",
		},
		agent: []string{
			"Your return for order #{order} arrived at our warehouse this morning. I have issued the refund; it usually shows on your statement within 5 to 10 business days.",
			"No problem! I created a prepaid return label for order #{order}; you will get it by email in a few minutes. The refund is issued as soon as the parcel is scanned.",
		},
	},
	{
		intent: "order/damaged", tag: 3, subject: "Item arrived damaged (#{order})", reason: "Order::Damaged",
		customer: []string{
			"The {product} in order #{order} arrived with a torn seam. I attached a photo. I would like a replacement please.",
			"The box of order #{order} was crushed and the {product} inside is damaged.",
		},
		agent: []string{
			"I am really sorry about that! I have shipped a replacement {product} for order #{order} with express delivery, no need to return the damaged one.",
			"Thank you for the photo. I issued a 100% refund for the damaged {product} on order #{order}.",
		},
	},
	{
		intent: "exchange/request", tag: 13, subject: "Exchange size for order #{order}", reason: "Return::Exchange",
		customer: []string{
			"The {product} from order #{order} is too small. Can I exchange it for one size up?",
			"Can I swap the colour of the {product} in order #{order}? I ordered navy but would prefer grey.",
		},
		agent: []string{
			"Of course! I set up an exchange for order #{order}; the new size ships as soon as we receive the original. Here is your return label.",
			"Done! The exchange for order #{order} is confirmed, you will receive a confirmation email shortly.",
		},
	},
	{
		intent: "discount/request", tag: 5, subject: "Discount code not working", reason: "Promotion::Code",
		customer: []string{
			"The code WELCOME10 from your newsletter says 'invalid' at checkout. Can you help?",
			"I forgot to apply my discount code on order #{order}. Can you still apply it?",
		},
		agent: []string{
			"Sorry about that! The code expired last Sunday, but I created a new one for you: SORRY10-{order}. It is valid for 30 days.",
			"I refunded the 10% difference on order #{order}, you should see it within a few days.",
		},
	},
	{
		intent: "order/cancel", tag: 6, subject: "Please cancel order #{order}", reason: "Order::Cancel",
		customer: []string{
			"I ordered the wrong {product} by mistake. Please cancel order #{order} before it ships.",
			"Can I still cancel order #{order}? I found the same item in store.",
		},
		agent: []string{
			"Good news, order #{order} had not shipped yet; it is cancelled and fully refunded.",
			"Unfortunately order #{order} has already shipped. Once it arrives you can return it for free within 30 days.",
		},
	},
	{
		intent: "order/edit", tag: 7, subject: "Change shipping address for #{order}", reason: "Order::Edit",
		customer: []string{
			"I just moved, can you change the shipping address of order #{order}? The new address is in my account.",
			"Please ship order #{order} to my office instead of my home address.",
		},
		agent: []string{
			"I updated the shipping address of order #{order}. You will receive a new confirmation by email.",
			"The address on order #{order} is updated; it ships tomorrow to the new address.",
		},
	},
	{
		intent: "product/question", tag: 10, subject: "Question about the {product}", reason: "Product::Question",
		customer: []string{
			"Is the {product} machine washable? And does it run true to size?",
			"When will the {product} be back in stock in size M?",
		},
		agent: []string{
			"Great question! The {product} can go in the washing machine on a cold wool cycle, and it fits true to size.",
			"We expect the {product} back in all sizes in about three weeks. I added you to the restock alert.",
		},
	},
	{
		intent: "subscription/change", tag: 11, subject: "Skip next subscription delivery", reason: "Subscription::Change",
		customer: []string{
			"I am travelling next month. Can you skip my next subscription box?",
			"Please change my subscription from monthly to every two months.",
		},
		agent: []string{
			"Done! Your next box is skipped and the following one ships on the usual date.",
			"Your subscription now ships every two months. You can change it any time from your account page.",
		},
	},
}

var shortCustomer = []string{
	"Hi! Quick question about order #{order}.",
	"Hello, is anyone there?",
	"ok thanks",
	"Thank you so much!",
	"That works for me.",
	"Still nothing on my side, any update?",
	"Perfect, have a nice day!",
}

var internalNotes = []string{
	"Checked with the warehouse, parcel for #{order} is on the pallet for tomorrow.",
	"Customer already got a goodwill code last month, no more discounts please.",
	"Escalated to tier 2, carrier claim opened for #{order}.",
	"Refund of #{order} approved by finance.",
}

var surveyComments = map[int][]string{
	5: {"Super fast answer, thank you!", "{agent} was great, problem solved in minutes.", "Best customer service I have had in a while."},
	4: {"Good help, it just took a day to get an answer.", "Nice and friendly, thanks."},
	3: {"Okay, but I had to explain my problem twice.", "Solved in the end."},
	2: {"Slow reply and my issue is only half fixed.", "The answer did not really help."},
	1: {"Still waiting for my refund. Not happy.", "Nobody read my message properly."},
}

var tagPool = []struct {
	name, color string
}{
	{"order-status", "#2f80ed"}, {"refund", "#eb5757"}, {"shipping-delay", "#f2994a"}, {"damaged", "#9b51e0"},
	{"exchange", "#27ae60"}, {"discount", "#f2c94c"}, {"cancel", "#828282"}, {"address-change", "#56ccf2"},
	{"vip", "#bb6bd9"}, {"urgent", "#eb5757"}, {"product-question", "#6fcf97"}, {"subscription", "#2d9cdb"},
	{"auto-close", "#bdbdbd"}, {"sizing", "#219653"},
}

var agentNames = [][2]string{
	{"Maya", "Chen"}, {"Tom", "Becker"}, {"Ines", "Laurent"}, {"Sam", "Okafor"},
	{"Rosa", "Medina"}, {"Ben", "Carter"}, {"Ana", "Silva"}, {"Luca", "Bianchi"},
}

var teamPool = []struct {
	name, emojiID, emojiName, native, unified string
}{
	{"Tier 1 Support", "headphones", "Headphone", "🎧", "1f3a7"},
	{"Returns & Refunds", "package", "Package", "📦", "1f4e6"},
	{"VIP Care", "star", "White Medium Star", "⭐", "2b50"},
}

// channelCombos are (channel, via) pairs with weights.
var channelCombos = []struct {
	channel, via string
	weight       int
}{
	{"email", "email", 45},
	{"email", "helpdesk", 6},
	{"chat", "gorgias_chat", 18},
	{"contact_form", "form", 8},
	{"facebook-messenger", "facebook", 5},
	{"instagram-comment", "instagram", 4},
	{"sms", "twilio", 4},
	{"phone", "aircall", 4},
	{"api", "api", 3},
	{"help-center", "self_service", 3},
}

var attachmentPool = []struct {
	name, ctype string
}{
	{"photo.jpg", "image/jpeg"}, {"IMG_2041.HEIC", "image/heic"}, {"receipt.pdf", "application/pdf"},
	{"screenshot.png", "image/png"},
}
